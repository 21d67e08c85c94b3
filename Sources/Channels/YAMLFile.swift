import Foundation
import Yams

/// An error in a configuration or template file: the file, the line (1-based), the field (a dotted
/// path such as `channels.sms.http.url`) and what is wrong.
public struct ChannelConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int?, field: String?, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// `config/channels.yaml:12: channels.sms.http.url: ...`
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": "
        if let field { s += field + ": " }
        return s + message
    }
}

/// A YAML node with the file it came from and its dotted path, for errors that name file, line and field.
struct YAMLValue {
    let node: Node
    let file: String
    let path: String
    /// The line of the key this value belongs to, when it is a mapping's value.
    var keyLine: Int? = nil

    /// Parses `text` (the contents of `file`).
    static func parse(_ text: String, file: String) throws -> YAMLValue {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ChannelConfigurationError(file: file, line: 1, field: nil, message: "the file is empty")
            }
            return YAMLValue(node: node, file: file, path: "")
        } catch let e as YamlError {
            var line: Int?
            var problem = "\(e)"
            switch e {
            case .scanner(_, let p, let mark, _), .parser(_, let p, let mark, _), .composer(_, let p, let mark, _):
                line = mark.line
                problem = p
            default: break
            }
            throw ChannelConfigurationError(file: file, line: line, field: nil, message: "not valid YAML: \(problem)")
        }
    }

    /// Reads and parses `url`.
    static func load(_ url: URL, displayName: String? = nil) throws -> YAMLValue {
        let name = displayName ?? url.path
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ChannelConfigurationError(file: name, line: nil, field: nil, message: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: name)
    }

    /// The line of the value (of its key for mappings and lists, whose own mark is their first entry).
    var line: Int? {
        switch node {
        case .scalar: node.mark?.line ?? keyLine
        default: keyLine ?? node.mark?.line
        }
    }

    func error(_ message: String) -> ChannelConfigurationError {
        ChannelConfigurationError(file: file, line: line, field: path.isEmpty ? nil : path, message: message)
    }

    func child(_ key: String, _ node: Node, keyLine: Int? = nil) -> YAMLValue {
        YAMLValue(node: node, file: file, path: path.isEmpty ? key : path + "." + key, keyLine: keyLine ?? node.mark?.line)
    }

    /// The entries of a mapping, in file order.
    func mapping() throws -> [(key: String, value: YAMLValue)] {
        guard case .mapping(let m) = node else { throw error("expected a mapping (key: value lines)") }
        var seen = Set<String>()
        var out: [(String, YAMLValue)] = []
        for (k, v) in m {
            guard case .scalar(let s) = k else {
                throw YAMLValue(node: k, file: file, path: path).error("keys must be plain strings")
            }
            guard seen.insert(s.string).inserted else {
                throw YAMLValue(node: k, file: file, path: path).error("the key '\(s.string)' appears twice")
            }
            out.append((s.string, child(s.string, v, keyLine: k.mark?.line)))
        }
        return out
    }

    /// The entries of a mapping whose keys must all be in `allowed`.
    func fields(allowed: Set<String>) throws -> [String: YAMLValue] {
        var out: [String: YAMLValue] = [:]
        for (k, v) in try mapping() {
            guard allowed.contains(k) else {
                throw ChannelConfigurationError(file: file, line: v.keyLine, field: v.path,
                                                message: "unknown field; expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            out[k] = v
        }
        return out
    }

    func sequence() throws -> [YAMLValue] {
        guard case .sequence(let s) = node else { throw error("expected a list") }
        return s.enumerated().map { child(String($0.offset), $0.element) }
    }

    func string() throws -> String {
        guard case .scalar(let s) = node else { throw error("expected a text value") }
        return s.string
    }

    func int() throws -> Int {
        guard case .scalar(let s) = node, let v = Int(s.string) else { throw error("expected a whole number, found \(describe)") }
        return v
    }

    func double() throws -> Double {
        guard case .scalar(let s) = node, let v = Double(s.string), v.isFinite else { throw error("expected a number, found \(describe)") }
        return v
    }

    func bool() throws -> Bool {
        guard case .scalar(let s) = node else { throw error("expected true or false, found \(describe)") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found '\(s.string)'")
        }
    }

    /// Whether the scalar is a block (`|` or `>`): its text starts on the line after `line`.
    var isBlockScalar: Bool {
        if case .scalar(let s) = node { return s.style == .literal || s.style == .folded }
        return false
    }

    var describe: String {
        switch node {
        case .scalar(let s): "'\(s.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}

extension Dictionary where Key == String, Value == YAMLValue {
    /// The field `key`, or an error on `parent` naming it as missing.
    func required(_ key: String, in parent: YAMLValue) throws -> YAMLValue {
        guard let v = self[key] else {
            throw ChannelConfigurationError(file: parent.file, line: parent.line, field: parent.path.isEmpty ? key : parent.path + "." + key,
                                            message: "missing field")
        }
        return v
    }
}
