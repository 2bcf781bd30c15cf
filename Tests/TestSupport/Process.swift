import Glibc

/// The open file descriptors of this process, from /proc/self/fd (without the one used to read it).
public func openFileDescriptors() -> Set<Int32> {
    var result = Set<Int32>()
    guard let directory = opendir("/proc/self/fd") else { return result }
    defer { closedir(directory) }
    let own = dirfd(directory)
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if let fd = Int32(name), fd != own { result.insert(fd) }
    }
    return result
}

/// What each open descriptor points at, as "fd→target" ("3→socket:[…]", "4→anon_inode:[eventfd]", …).
public func openFileDescriptorTargets() -> [String] {
    openFileDescriptors().sorted().map { fd in
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink("/proc/self/fd/\(fd)", &buffer, 255)
        let target = count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        return "\(fd)→" + target
    }
}

/// Connects the TCP socket `fd` to 127.0.0.1:`port`; returns what connect(2) returned (0, or -1 with errno set).
public func connectToLoopback(_ fd: Int32, port: UInt16) -> Int32 {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held at the end.
@discardableResult
public func pollUntil(timeout: Duration, interval: Duration, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    let pause = useconds_t(interval / .microseconds(1))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(pause)
    }
    return condition()
}
