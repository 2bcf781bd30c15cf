import Glibc

/// Committed files of the repository, located from this file's path (no Foundation, no bundle; works in CI clones).
public enum TestFiles {
    /// The repository root: this file is <root>/Tests/TestSupport/TestFiles.swift.
    public static let repositoryRoot: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// `path` itself when absolute, else `path` relative to the repository root.
    public static func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : repositoryRoot + "/" + path
    }

    /// The bytes of the file at `path` (absolute, or relative to the repository root); nil when it cannot be opened.
    public static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(resolve(path), "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// The bytes of the fixture at `path` (as for `read`); stops the run with "missing fixture <path>" when absent.
    public static func mustRead(_ path: String) -> [UInt8] {
        guard let bytes = read(path) else { fatalError("missing fixture \(resolve(path))") }
        return bytes
    }

    /// The sorted entry names of `directory` (absolute, or relative to the repository root), without "." and ".."
    /// and, unless `includingHidden`, without any other name starting with "."; empty when it cannot be opened.
    public static func list(_ directory: String, includingHidden: Bool = false) -> [String] {
        guard let dir = opendir(resolve(directory)) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if includingHidden || !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }
}
