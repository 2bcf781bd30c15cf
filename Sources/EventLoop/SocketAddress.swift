import Glibc

/// An IPv4 address and TCP port.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in host byte order (127.0.0.1 is `0x7F00_0001`).
    public var ipv4: UInt32
    /// The TCP port (0 asks `listen` for any free port).
    public var port: UInt16

    /// Parses a dotted-quad IPv4 address such as `"127.0.0.1"`.
    /// - Throws: `SystemError` with `.invalidArgument` for anything that is not a dotted quad (host names are not
    ///   resolved here).
    public init(ipv4 text: String, port: UInt16) throws(SystemError) {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else {
            throw SystemError(.invalidArgument, operation: "inet_pton(\(text))")
        }
        self.ipv4 = UInt32(bigEndian: address.s_addr)
        self.port = port
    }

    /// Makes an address from a host-order IPv4 value.
    public init(ipv4: UInt32, port: UInt16) {
        self.ipv4 = ipv4
        self.port = port
    }

    /// `127.0.0.1` with the given port.
    public static func loopback(port: UInt16) -> SocketAddress { SocketAddress(ipv4: 0x7F00_0001, port: port) }

    init(_ address: sockaddr_in) {
        self.ipv4 = UInt32(bigEndian: address.sin_addr.s_addr)
        self.port = UInt16(bigEndian: address.sin_port)
    }

    var sockaddr: sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = ipv4.bigEndian
        return address
    }

    /// `127.0.0.1:4000`.
    public var description: String {
        "\(ipv4 >> 24).\((ipv4 >> 16) & 0xFF).\((ipv4 >> 8) & 0xFF).\(ipv4 & 0xFF):\(port)"
    }
}
