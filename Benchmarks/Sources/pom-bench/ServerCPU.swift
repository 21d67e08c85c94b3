import Foundation

/// CPU seconds (user + system) used so far by the local PostgreSQL server that `url` points at:
/// its postmaster (found by the `-p PORT` of its command line) and every process it started. On a
/// shared machine the wall time of a database write says little; the server's CPU time is the work
/// it did. Nil when no such server runs on this machine (a remote server, or one without `-p`).
func postgresServerCPUSeconds(url: String) -> Double? {
    guard let port = postgresPort(url) else { return nil }
    let proc = "/proc"
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: proc) else { return nil }
    var postmaster: Int? = nil
    var parents: [Int: Int] = [:]
    var ticks: [Int: Double] = [:]
    for entry in entries {
        guard let pid = Int(entry), let stat = try? String(contentsOfFile: "\(proc)/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        // Fields after the command name: state, ppid, ..., utime (14th field), stime (15th).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let ppid = Int(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        parents[pid] = ppid
        ticks[pid] = user + system
        guard postmaster == nil, stat.contains("(postgres)"),
              let data = FileManager.default.contents(atPath: "\(proc)/\(pid)/cmdline") else { continue }
        let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if let p = args.firstIndex(of: "-p"), p + 1 < args.count, args[p + 1] == String(port) { postmaster = pid }
    }
    guard let postmaster else { return nil }
    let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = ticks[postmaster] ?? 0
    for (pid, ppid) in parents where ppid == postmaster { total += ticks[pid] ?? 0 }
    return total / perSecond
}

/// The port of a `postgres://user@host:port/db` URL (5432 when none is given).
private func postgresPort(_ url: String) -> Int? {
    guard let scheme = url.range(of: "://") else { return nil }
    var authority = url[scheme.upperBound...]
    if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
    if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
    guard let colon = authority.lastIndex(of: ":") else { return 5432 }
    return Int(authority[authority.index(after: colon)...])
}
