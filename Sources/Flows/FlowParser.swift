import Foundation
import Yams

/// Reads flow files (YAML, or JSON, which is YAML too) into checked `FlowDefinition`s.
///
/// Every value is checked against the action catalogue's schema while it is read, and the result
/// is then checked by `FlowValidator` (day order, backup cycles, conditions), so a definition
/// that `parse` returns is valid on its own. Set-level checks (duplicate names, `switch_flow`
/// targets) need `FlowValidator.validate(set:)`.
public enum FlowParser {
    /// Parses and checks one flow file.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the name errors carry (as the user gave it, e.g. `flows/b2c.yaml`).
    ///   - catalogue: the actions the flow may use.
    /// - Returns: the flow, with the schema defaults filled into every step's settings.
    /// - Throws: `FlowError`, the first mistake in line order (`FlowValidator.validate(text:file:)` lists all).
    public static func parse(text: String, file: String, catalogue: ActionCatalogue = .standard) throws -> FlowDefinition {
        let result = read(text: text, file: file, catalogue: catalogue)
        if let first = result.errors.first { throw first }
        guard let definition = result.definition else { preconditionFailure("FlowParser: no definition and no error") }
        return definition
    }

    /// The flow and every mistake found (syntax and schema, then semantics when the schema is clean).
    static func read(text: String, file: String, catalogue: ActionCatalogue) -> (definition: FlowDefinition?, errors: [FlowError]) {
        let reader = Reader(file: file, catalogue: catalogue)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            return (nil, [reader.syntaxError(error)])
        } catch {
            return (nil, [FlowError(file: file, line: 1, field: "yaml", message: "\(error)")])
        }
        guard let root = node else {
            return (nil, [FlowError(file: file, line: 1, field: "flow", message: "the file is empty; a flow needs name, version and processes")])
        }
        let definition = reader.flow(root)
        var errors = reader.errors
        if errors.isEmpty, let definition {
            errors = FlowValidator.validate(definition, catalogue: catalogue)
        }
        errors.sort { ($0.line, $0.field) < ($1.line, $1.field) }
        return (errors.isEmpty ? definition : nil, errors)
    }
}

/// Walks the YAML node tree, collecting errors as it goes so one run reports them all.
private final class Reader {
    let file: String
    let catalogue: ActionCatalogue
    var errors: [FlowError] = []

    init(file: String, catalogue: ActionCatalogue) {
        self.file = file
        self.catalogue = catalogue
    }

    func fail(_ line: Int, _ field: String, _ message: String) {
        errors.append(FlowError(file: file, line: line, field: field, message: message))
    }

    func syntaxError(_ error: YamlError) -> FlowError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            let where_ = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return FlowError(file: file, line: mark.line, field: "yaml", message: "not valid YAML: \(problem)\(where_)")
        case let .reader(problem, offset, _, yaml):
            var line = 1
            if let offset { line = 1 + yaml.prefix(offset).filter { $0 == "\n" }.count }
            return FlowError(file: file, line: line, field: "yaml", message: "cannot read the file: \(problem)")
        default:
            return FlowError(file: file, line: 1, field: "yaml", message: "not valid YAML: \(error)")
        }
    }

    // MARK: Node helpers

    static func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

    static func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: "a single value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }

    static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The key-value pairs of a mapping with scalar keys; reports non-scalar and repeated keys.
    func pairs(_ node: Node, _ field: String) -> [(key: String, keyLine: Int, value: Node)]? {
        guard case let .mapping(mapping) = node else {
            fail(Self.line(node), field, "expected a mapping of fields, found \(Self.kindName(node))")
            return nil
        }
        var out: [(String, Int, Node)] = []
        var seen: [String: Int] = [:]
        for (k, v) in mapping {
            guard case let .scalar(key) = k else {
                fail(Self.line(k), field.isEmpty ? "flow" : field, "a field name must be a single word, found \(Self.kindName(k))")
                continue
            }
            let keyLine = Self.line(k)
            if let first = seen[key.string] {
                fail(keyLine, join(field, key.string), "given twice (first at line \(first)); keep one")
                continue
            }
            seen[key.string] = keyLine
            out.append((key.string, keyLine, v))
        }
        return out
    }

    func join(_ field: String, _ key: String) -> String { field.isEmpty ? key : "\(field).\(key)" }

    func unknownField(_ key: String, _ line: Int, _ field: String, allowed: [String]) {
        var message = "unknown field"
        if let s = suggestion(for: key, among: allowed) { message += "; did you mean '\(s)'?" }
        message += " Allowed here: \(allowed.joined(separator: ", "))"
        fail(line, join(field, key), message)
    }

    /// A scalar's text; reports lists, mappings and null.
    func text(_ node: Node, _ field: String) -> String? {
        guard case let .scalar(scalar) = node else {
            fail(Self.line(node), field, "expected a single value, found \(Self.kindName(node))")
            return nil
        }
        if Self.isNull(scalar) {
            fail(Self.line(node), field, "has no value")
            return nil
        }
        return scalar.string
    }

    /// A whole number written without quotes.
    func integer(_ node: Node, _ field: String, min: Int? = nil, max: Int? = nil) -> Int? {
        guard let s = text(node, field) else { return nil }
        guard case let .scalar(scalar) = node, scalar.style == .plain, let value = Int(s) else {
            fail(Self.line(node), field, "'\(s)' is not a whole number" + quotedHint(node, Int(s) != nil))
            return nil
        }
        if let min, value < min { fail(Self.line(node), field, "\(value) is below the smallest allowed value \(min)"); return nil }
        if let max, value > max { fail(Self.line(node), field, "\(value) is above the largest allowed value \(max)"); return nil }
        return value
    }

    func number(_ node: Node, _ field: String, min: Double? = nil, max: Double? = nil) -> Double? {
        guard let s = text(node, field) else { return nil }
        let parsed = Double(s).flatMap { $0.isFinite ? $0 : nil }
        guard case let .scalar(scalar) = node, scalar.style == .plain, let value = parsed else {
            fail(Self.line(node), field, "'\(s)' is not a number" + quotedHint(node, parsed != nil))
            return nil
        }
        if let min, value < min { fail(Self.line(node), field, "\(s) is below the smallest allowed value \(min)"); return nil }
        if let max, value > max { fail(Self.line(node), field, "\(s) is above the largest allowed value \(max)"); return nil }
        return value
    }

    func quotedHint(_ node: Node, _ parses: Bool) -> String {
        if parses, case let .scalar(scalar) = node, scalar.style != .plain { return "; write it without quotes" }
        return ""
    }

    // MARK: Flow

    static let topFields = ["name", "version", "description", "segment", "processes"]

    func flowName(_ node: Node, _ field: String) -> String? {
        guard let name = text(node, field) else { return nil }
        guard isFlowName(name) else {
            fail(Self.line(node), field, "'\(name)' is not a flow name; use letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)")
            return nil
        }
        return name
    }

    func flow(_ root: Node) -> FlowDefinition? {
        guard case .mapping = root else {
            fail(Self.line(root), "flow", "a flow file is a mapping with name, version and processes; found \(Self.kindName(root))")
            return nil
        }
        guard let fields = pairs(root, "") else { return nil }
        var name: String?, nameLine = Self.line(root)
        var version: Int?, description: String?, segment: SegmentRules?, processes: [FlowProcess]?
        var sawProcesses = false, sawVersion = false, sawName = false
        for (key, keyLine, value) in fields {
            switch key {
            case "name": sawName = true; nameLine = keyLine; name = flowName(value, "name")
            case "version": sawVersion = true; version = integer(value, "version", min: 1)
            case "description": description = text(value, "description")
            case "segment": segment = self.segment(value)
            case "processes": sawProcesses = true; processes = self.processes(value)
            default: unknownField(key, keyLine, "", allowed: Self.topFields)
            }
        }
        let rootLine = Self.line(root)
        if !sawName { fail(rootLine, "name", "missing; every flow needs a name") }
        if !sawVersion { fail(rootLine, "version", "missing; every flow needs a version number (1, 2, ...)") }
        if !sawProcesses { fail(rootLine, "processes", "missing; a flow needs at least one process") }
        guard let name, let version, let processes else { return nil }
        return FlowDefinition(name: name, version: version, description: description, segment: segment,
                              processes: processes, file: file, nameLine: nameLine)
    }

    // MARK: Segment

    static let segmentFields = ["customer_kind", "country", "currency", "min_amount", "max_amount", "tags", "priority"]

    func codes(_ node: Node, _ field: String, length: Int, what: String) -> Set<String>? {
        let items: [Node]
        if case let .sequence(seq) = node { items = Array(seq) } else { items = [node] }
        var out = Set<String>()
        for (i, item) in items.enumerated() {
            let f = node.isSequence ? "\(field)[\(i)]" : field
            guard let code = text(item, f) else { continue }
            guard code.count == length, code.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                fail(Self.line(item), f, "'\(code)' is not \(what) (\(length) capital letters)")
                continue
            }
            if out.contains(code) { fail(Self.line(item), f, "'\(code)' is listed twice") }
            out.insert(code)
        }
        if items.isEmpty { fail(Self.line(node), field, "is an empty list; leave the field out to match any") }
        return out
    }

    func amount(_ node: Node, _ field: String) -> Decimal? {
        guard let s = text(node, field) else { return nil }
        guard case let .scalar(scalar) = node, scalar.style == .plain, let money = Money.parse(s), money.currency == nil else {
            fail(Self.line(node), field, "'\(s)' is not an amount; write a number such as 500 or 1250.50 (in the invoice's currency)")
            return nil
        }
        return money.amount
    }

    func segment(_ node: Node) -> SegmentRules? {
        guard let fields = pairs(node, "segment") else { return nil }
        var rules = SegmentRules()
        var maxLine = 0
        for (key, keyLine, value) in fields {
            let f = "segment.\(key)"
            switch key {
            case "customer_kind":
                guard let s = text(value, f) else { continue }
                if s == "any" { rules.customerKind = nil; continue }
                guard let kind = CustomerKind(rawValue: s) else {
                    fail(Self.line(value), f, "'\(s)' is not one of consumer, business, any")
                    continue
                }
                rules.customerKind = kind
            case "country": rules.countries = codes(value, f, length: 2, what: "an ISO 3166 country code such as DE")
            case "currency": rules.currencies = codes(value, f, length: 3, what: "an ISO 4217 currency code such as EUR")
            case "min_amount": rules.minAmount = amount(value, f)
            case "max_amount": rules.maxAmount = amount(value, f); maxLine = Self.line(value)
            case "priority": rules.priority = integer(value, f, min: -1000, max: 1000) ?? 0
            case "tags":
                guard case let .sequence(seq) = value else {
                    fail(Self.line(value), f, "expected a list of tags such as [vip], found \(Self.kindName(value))")
                    continue
                }
                for (i, item) in seq.enumerated() {
                    if let tag = text(item, "\(f)[\(i)]") { rules.tags.insert(tag) }
                }
            default: unknownField(key, keyLine, "segment", allowed: Self.segmentFields)
            }
        }
        if let lo = rules.minAmount, let hi = rules.maxAmount, hi <= lo {
            fail(maxLine, "segment.max_amount", "\(hi) is not above min_amount \(lo); the range is min_amount <= amount < max_amount")
        }
        return rules
    }

    // MARK: Processes

    static let processFields = ["day", "action", "settings", "backup", "note"]
    static let backupFields = ["action", "settings", "on", "after_hours", "backup", "note"]

    func processes(_ node: Node) -> [FlowProcess]? {
        guard case let .sequence(seq) = node else {
            fail(Self.line(node), "processes", "expected a list of processes, found \(Self.kindName(node))")
            return nil
        }
        if seq.isEmpty { fail(Self.line(node), "processes", "is empty; a flow needs at least one process") }
        var out: [FlowProcess] = []
        var ok = true
        for (i, item) in seq.enumerated() {
            if let p = process(item, "processes[\(i)]") { out.append(p) } else { ok = false }
        }
        return ok && !seq.isEmpty ? out : nil
    }

    func process(_ node: Node, _ field: String) -> FlowProcess? {
        guard let fields = pairs(node, field) else { return nil }
        var day: Int?, action: (String, Int)?, settingsNode: Node?, backupNode: Node?, note: String?
        var sawDay = false
        for (key, keyLine, value) in fields {
            switch key {
            case "day": sawDay = true; day = integer(value, "\(field).day", min: -365, max: 3650)
            case "action": action = actionName(value, "\(field).action").map { ($0, keyLine) }
            case "settings": settingsNode = value
            case "backup": backupNode = value
            case "note": note = text(value, "\(field).note")
            default: unknownField(key, keyLine, field, allowed: Self.processFields)
            }
        }
        let line = Self.line(node)
        if !sawDay { fail(line, "\(field).day", "missing; give the day relative to the due date (e.g. -3, 0, 14)") }
        if !fields.contains(where: { $0.key == "action" }) { fail(line, "\(field).action", "missing; name an action from the catalogue") }
        var typed: (ActionSettings, [String: Int])?
        if let action { typed = settings(settingsNode, action: action.0, line: line, "\(field).settings") }
        var backup: BackupStep?
        var backupOK = true
        if let backupNode {
            backup = self.backup(backupNode, "\(field).backup", parent: action?.0)
            backupOK = backup != nil
        }
        guard let day, let action, let typed, backupOK else { return nil }
        return FlowProcess(day: day, action: action.0, settings: typed.0, backup: backup, line: line,
                           settingLines: typed.1, note: note)
    }

    /// A backup step; without `on` it runs on every failure condition `parent` can raise.
    func backup(_ node: Node, _ field: String, parent: String?) -> BackupStep? {
        guard let fields = pairs(node, field) else { return nil }
        var action: (String, Int)?, settingsNode: Node?, conditions: Set<FlowCondition>?, onLine: Int?
        var afterHours: Double?, afterHoursLine = 0, nextNode: Node?
        var ok = true
        for (key, keyLine, value) in fields {
            switch key {
            case "action": action = actionName(value, "\(field).action").map { ($0, keyLine) }
            case "settings": settingsNode = value
            case "on": onLine = keyLine; conditions = self.conditions(value, "\(field).on")
            case "after_hours":
                afterHoursLine = keyLine
                afterHours = number(value, "\(field).after_hours", min: 0, max: 24 * 90)
                if afterHours == nil { ok = false }
            case "backup": nextNode = value
            case "note": _ = text(value, "\(field).note")
            default: unknownField(key, keyLine, field, allowed: Self.backupFields)
            }
        }
        let line = Self.line(node)
        if !fields.contains(where: { $0.key == "action" }) { fail(line, "\(field).action", "missing; name the action to run") }
        var typed: (ActionSettings, [String: Int])?
        if let action { typed = settings(settingsNode, action: action.0, line: line, "\(field).settings") }
        var next: BackupStep?
        if let nextNode {
            next = backup(nextNode, "\(field).backup", parent: action?.0)
            if next == nil { ok = false }
        }
        if onLine == nil, let parent, let spec = catalogue[parent] {
            conditions = spec.conditions.filter(\.isFailure)
        }
        if afterHours != nil, let conditions, !conditions.contains(where: \.isTimed) {
            let timed = FlowCondition.allCases.filter(\.isTimed).map(\.rawValue).joined(separator: ", ")
            fail(afterHoursLine, "\(field).after_hours",
                 "applies only to the timed conditions (\(timed)) and on names none; remove it or add one of them to on")
            ok = false
        }
        guard let action, let typed, let conditions, ok else { return nil }
        return BackupStep(action: action.0, settings: typed.0, on: conditions, afterHours: afterHours, backup: next,
                          line: action.1, settingLines: typed.1, onLine: onLine ?? 0)
    }

    func actionName(_ node: Node, _ field: String) -> String? {
        guard let name = text(node, field) else { return nil }
        guard catalogue[name] != nil else {
            var message = "unknown action '\(name)'"
            if let s = suggestion(for: name, among: catalogue.actions.map(\.name)) { message += "; did you mean \(s)?" }
            fail(Self.line(node), field, message + " (pom-orchestrate actions lists them all)")
            return nil
        }
        return name
    }

    func conditions(_ node: Node, _ field: String) -> Set<FlowCondition>? {
        let items: [Node]
        if case let .sequence(seq) = node { items = Array(seq) } else { items = [node] }
        if items.isEmpty {
            fail(Self.line(node), field, "is an empty list; name the conditions the backup runs on (or leave on out for every failure)")
            return nil
        }
        var out = Set<FlowCondition>()
        var ok = true
        for (i, item) in items.enumerated() {
            let f = node.isSequence ? "\(field)[\(i)]" : field
            guard let word = text(item, f) else { ok = false; continue }
            guard let condition = FlowCondition(rawValue: word) else {
                let all = FlowCondition.allCases.map(\.rawValue)
                var message = "unknown condition '\(word)'"
                if let s = suggestion(for: word, among: all) { message += "; did you mean \(s)?" }
                fail(Self.line(item), f, message + " Conditions: \(all.joined(separator: ", "))")
                ok = false
                continue
            }
            if out.contains(condition) { fail(Self.line(item), f, "'\(word)' is listed twice"); ok = false }
            out.insert(condition)
        }
        return ok ? out : nil
    }

    // MARK: Settings

    /// The settings of one step typed against `action`'s schema, defaults filled in, with each setting's line.
    func settings(_ node: Node?, action: String, line: Int, _ field: String) -> (ActionSettings, [String: Int])? {
        guard let spec = catalogue[action] else { return nil }
        var values: [String: SettingValue] = [:]
        var lines: [String: Int] = [:]
        var ok = true
        if let node {
            var fields: [(key: String, keyLine: Int, value: Node)] = []
            if case let .scalar(s) = node, Self.isNull(s) {
                fields = []
            } else if let p = pairs(node, field) {
                fields = p
            } else {
                return nil  // not a mapping: reported; missing settings would only repeat it
            }
            for (key, keyLine, value) in fields {
                guard let setting = spec.setting(key) else {
                    let names = spec.settings.map(\.name)
                    var message = "unknown setting for \(action)"
                    if let s = suggestion(for: key, among: names) { message += "; did you mean '\(s)'?" }
                    message += names.isEmpty ? "; it takes no settings" : "; its settings are \(names.joined(separator: ", "))"
                    fail(keyLine, "\(field).\(key)", message)
                    ok = false
                    continue
                }
                lines[key] = Self.line(value)
                if let v = typedValue(value, setting.type, "\(field).\(key)") { values[key] = v } else { ok = false }
            }
        }
        for setting in spec.settings where values[setting.name] == nil && lines[setting.name] == nil {
            if setting.required {
                fail(node.map(Self.line) ?? line, "\(field).\(setting.name)",
                     "missing; \(action) requires it (\(setting.type.summary): \(setting.doc))")
                ok = false
            } else if let d = setting.defaultValue {
                values[setting.name] = d
            }
        }
        return ok ? (ActionSettings(values), lines) : nil
    }

    func typedValue(_ node: Node, _ type: SettingType, _ field: String) -> SettingValue? {
        switch type {
        case .string:
            return text(node, field).map { .string($0) }
        case let .int(min, max):
            return integer(node, field, min: min, max: max).map { .int($0) }
        case let .double(min, max):
            return number(node, field, min: min, max: max).map { .double($0) }
        case .bool:
            guard let s = text(node, field) else { return nil }
            guard case let .scalar(scalar) = node, scalar.style == .plain, s == "true" || s == "false" else {
                let quoted = s == "true" || s == "false"
                fail(Self.line(node), field, quoted ? "'\(s)' is quoted text; write true or false without quotes" : "'\(s)' is not true or false")
                return nil
            }
            return .bool(s == "true")
        case let .enumeration(words):
            guard let s = text(node, field) else { return nil }
            guard words.contains(s) else {
                var message = "'\(s)' is not one of \(words.joined(separator: ", "))"
                if let near = suggestion(for: s, among: words) { message += "; did you mean \(near)?" }
                fail(Self.line(node), field, message)
                return nil
            }
            return .string(s)
        case .duration:
            guard let s = text(node, field) else { return nil }
            guard let seconds = FlowDuration.seconds(s), seconds > 0 else {
                fail(Self.line(node), field, "'\(s)' is not a duration; write a number with a unit: 90m, 24h, 3d, 2w")
                return nil
            }
            return .duration(seconds)
        case .money:
            guard let s = text(node, field) else { return nil }
            guard let money = Money.parse(s) else {
                fail(Self.line(node), field, "'\(s)' is not an amount; write 5.00 or \"5.00 EUR\" (no sign, '.' for decimals)")
                return nil
            }
            return .money(money)
        case let .list(element):
            guard case let .sequence(seq) = node else {
                fail(Self.line(node), field, "expected a list (\(type.summary)), found \(Self.kindName(node)); write [a, b]")
                return nil
            }
            var items: [SettingValue] = []
            var ok = true
            for (i, item) in seq.enumerated() {
                guard let v = typedValue(item, element, "\(field)[\(i)]") else { ok = false; continue }
                if items.contains(v) {
                    fail(Self.line(item), "\(field)[\(i)]", "'\(v)' is listed twice")
                    ok = false
                    continue
                }
                items.append(v)
            }
            if seq.isEmpty { fail(Self.line(node), field, "is an empty list; name at least one"); ok = false }
            return ok ? .list(items) : nil
        case .flow:
            return flowName(node, field).map { .string($0) }
        case .timeOfDay:
            guard let s = text(node, field) else { return nil }
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
                  let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h), (0..<60).contains(m) else {
                fail(Self.line(node), field, "'\(s)' is not a time of day; write HH:MM on the 24-hour clock, e.g. \"09:30\"")
                return nil
            }
            return .timeOfDay(h * 60 + m)
        case .locale:
            guard let s = text(node, field) else { return nil }
            guard isLocale(s) else {
                fail(Self.line(node), field, "'\(s)' is not a locale; write a language code such as de or en, optionally with a region: de-AT")
                return nil
            }
            return .string(s)
        }
    }
}

extension Node {
    var isSequence: Bool {
        if case .sequence = self { return true }
        return false
    }
}
