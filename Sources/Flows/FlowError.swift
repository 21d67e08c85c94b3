/// A mistake in a flow file: where it is (file, line, field path) and what would be right.
///
/// `description` reads `flows/b2c.yaml:14: processes[2].settings.tone: 'rude' is not one of friendly, neutral, firm`.
public struct FlowError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file as given to the parser.
    public var file: String
    /// 1-based line; 0 when the file is empty.
    public var line: Int
    /// The field path, e.g. `processes[2].backup.on`; `yaml` for syntax errors.
    public var field: String
    public var message: String

    public init(file: String, line: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String { "\(file):\(line): \(field): \(message)" }
}

/// Every mistake found in one flow file or set of files, in file and line order.
public struct FlowErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [FlowError]

    public init(_ errors: [FlowError]) {
        precondition(!errors.isEmpty, "FlowErrors: no errors")
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// The closest of `candidates` to `word` when it is near enough to be a likely typo.
func suggestion(for word: String, among candidates: [String]) -> String? {
    let limit = max(1, min(3, word.count / 3))
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(word, c)
        if d <= limit, best == nil || d < best!.1 { best = (c, d) }
    }
    return best?.0
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each cost 1 (so `gmial` is 1 from `gmail`). O(|a|·|b|).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}
