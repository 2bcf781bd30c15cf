#!/usr/bin/env bash
# Makes a throwaway CA and a server certificate for localhost / 127.0.0.1 signed by it, plus a second,
# unrelated self-signed certificate (for the "untrusted" test), in DIR. EC P-256 keys: fast to make.
# Usage: Scripts/make_test_certificates.sh DIR
set -euo pipefail
dir=${1:?usage: make_test_certificates.sh DIR}
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=danmu test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
    -extfile ext.cnf 2>/dev/null
openssl req -x509 "${ec[@]}" -keyout other.key -out other.pem -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" 2>/dev/null
echo "certificates in $dir"
