import Foundation

/// A progress bar on standard error for long steps: redrawn in place on a terminal
/// (`[#######.....]  42/60 days  0:31`), one line per tenth of the way otherwise (logs, CI).
public final class ProgressBar: @unchecked Sendable {
    let label: String
    let total: Int
    let unit: String
    let started = Date()
    let interactive = isatty(STDERR_FILENO) != 0
    var lastTenth = -1
    let lock = NSLock()

    public init(label: String, total: Int, unit: String) {
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
    }

    /// Shows that `done` of `total` are done.
    public func update(_ done: Int) {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = Int(Date().timeIntervalSince(started))
        let clock = "\(elapsed / 60):" + String(format: "%02d", elapsed % 60)
        if interactive {
            let width = 30
            let filled = min(width, done * width / total)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total) \(unit)  \(clock)".utf8))
        } else {
            let tenth = done * 10 / total
            guard tenth != lastTenth else { return }
            lastTenth = tenth
            FileHandle.standardError.write(Data("\(label): \(done)/\(total) \(unit) (\(tenth * 10) %, \(clock))\n".utf8))
        }
    }

    /// Ends the bar's line.
    public func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
