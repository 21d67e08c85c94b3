import Foundation
import Vocabulary

/// Checks flows beyond their schema: the order of days, backup chains (conditions the parent
/// can raise, no cycles), cross-setting rules, and — over a set of flows — unique names and
/// `switch_flow` targets that exist and never loop.
public enum FlowValidator {
    /// Every mistake in one flow file: syntax, schema and semantics, in line order. Empty when valid.
    public static func validate(text: String, file: String, catalogue: ActionCatalogue = .standard) -> [FlowError] {
        FlowParser.read(text: text, file: file, catalogue: catalogue).errors
    }

    /// The semantic mistakes of one parsed flow (its schema is assumed checked), in line order.
    public static func validate(_ flow: FlowDefinition, catalogue: ActionCatalogue = .standard) -> [FlowError] {
        var errors: [FlowError] = []
        func fail(_ line: Int, _ field: String, _ message: String) {
            errors.append(FlowError(file: flow.file, line: line, field: field, message: message))
        }
        for (i, process) in flow.processes.enumerated() where i > 0 {
            let previous = flow.processes[i - 1]
            if process.day < previous.day {
                fail(process.line, "processes[\(i)].day",
                     "day \(process.day) comes after day \(previous.day) of processes[\(i - 1)]; processes must be in non-decreasing day order")
            }
        }
        for step in flow.steps {
            guard let spec = catalogue[step.action] else {
                fail(step.line, "\(step.ref).action", "unknown action '\(step.action)'")
                continue
            }
            if spec.name == "optimise" {
                checkOptimise(step, fail)
            }
            guard let backup = step.backup else { continue }
            let backupRef = StepRef(process: step.ref.process, depth: step.ref.depth + 1)
            if spec.conditions.isEmpty {
                fail(backup.line, "\(backupRef).action",
                     "\(spec.name) raises no conditions, so a backup after it never runs; remove the backup")
                continue
            }
            if backup.on.isEmpty {
                fail(backup.line, "\(backupRef).on",
                     "\(spec.name) raises no failure conditions, so this backup never runs; name the conditions in on (it can raise \(list(spec.conditions)))")
            }
            let foreign = backup.on.subtracting(spec.conditions)
            if !foreign.isEmpty {
                let words = foreign.sorted().map { "'\($0.rawValue)'" }.joined(separator: ", ")
                fail(backup.onLine == 0 ? backup.line : backup.onLine, "\(backupRef).on",
                     "\(spec.name) never raises \(words); it can raise \(list(spec.conditions))")
            }
        }
        for (i, process) in flow.processes.enumerated() {
            var seen: [(action: String, settings: ActionSettings, ref: StepRef, line: Int)] = [
                (process.action, process.settings, StepRef(process: i), process.line)
            ]
            var depth = 1
            var next = process.backup
            while let step = next {
                let ref = StepRef(process: i, depth: depth)
                if let earlier = seen.first(where: { $0.action == step.action && $0.settings == step.settings }) {
                    fail(step.line, "\(ref).action",
                         "backup cycle: \(step.action) with the same settings already runs at \(earlier.ref) (line \(earlier.line)); a chain must not repeat a step")
                    break
                }
                seen.append((step.action, step.settings, ref, step.line))
                depth += 1
                next = step.backup
            }
        }
        return errors.sorted { ($0.line, $0.field) < ($1.line, $1.field) }
    }

    /// The mistakes of a set of flows taken together: the same name twice, `switch_flow` to a
    /// flow not in the set, and `switch_flow` loops (a flow that can switch back to itself).
    public static func validate(set flows: [FlowDefinition]) -> [FlowError] {
        var errors: [FlowError] = []
        var first: [String: FlowDefinition] = [:]
        for flow in flows {
            if let earlier = first[flow.name] {
                errors.append(FlowError(file: flow.file, line: flow.nameLine, field: "name",
                                        message: "flow '\(flow.name)' is also defined in \(earlier.file):\(earlier.nameLine); flow names must be unique"))
            } else {
                first[flow.name] = flow
            }
        }
        struct Edge { var target: String; var file: String; var line: Int; var field: String }
        var edges: [String: [Edge]] = [:]
        for flow in flows where first[flow.name] == flow {
            for step in flow.steps where step.action == "switch_flow" {
                guard let target = step.settings.string("flow") else { continue }
                let line = step.settingLines["flow"] ?? step.line
                let field = "\(step.ref).settings.flow"
                if first[target] == nil {
                    var message = "no flow named '\(target)' in this set"
                    if let s = suggestion(for: target, among: Array(first.keys)) { message += "; did you mean \(s)?" }
                    message += " Flows: \(first.keys.sorted().joined(separator: ", "))"
                    errors.append(FlowError(file: flow.file, line: line, field: field, message: message))
                    continue
                }
                edges[flow.name, default: []].append(Edge(target: target, file: flow.file, line: line, field: field))
            }
        }
        // A loop is reported once, at the edge that closes it in a depth-first walk from the
        // alphabetically first flow, so the report does not depend on file order.
        var state: [String: Int] = [:]  // 1 = on the path, 2 = done
        var path: [String] = []
        func walk(_ name: String) {
            state[name] = 1
            path.append(name)
            for edge in edges[name] ?? [] {
                switch state[edge.target] {
                case 1:
                    let loop = path[path.lastIndex(of: edge.target)!...] + [edge.target]
                    let message = edge.target == name
                        ? "switch_flow to the flow itself would restart it for ever"
                        : "switch_flow loop: \(loop.joined(separator: " -> ")); a case could switch for ever"
                    errors.append(FlowError(file: edge.file, line: edge.line, field: edge.field, message: message))
                case nil: walk(edge.target)
                default: break
                }
            }
            path.removeLast()
            state[name] = 2
        }
        for name in first.keys.sorted() where state[name] == nil { walk(name) }
        return errors.sorted { ($0.file, $0.line, $0.field) < ($1.file, $1.line, $1.field) }
    }

    static func list(_ conditions: Set<FlowCondition>) -> String {
        conditions.sorted().map(\.rawValue).joined(separator: ", ")
    }

    static func checkOptimise(_ step: FlowDefinition.Step, _ fail: (Int, String, String) -> Void) {
        let s = step.settings
        if let channel = s.string("default_channel"), let channels = s.strings("channels"), !channels.contains(channel) {
            fail(step.settingLines["default_channel"] ?? step.settingLines["channels"] ?? step.line, "\(step.ref).settings.default_channel",
                 "'\(channel)' is not among channels [\(channels.joined(separator: ", "))]; the default must be a channel the model may choose")
        }
        if let tone = s.string("default_tone"), let tones = s.strings("tones"), !tones.contains(tone) {
            fail(step.settingLines["default_tone"] ?? step.settingLines["tones"] ?? step.line, "\(step.ref).settings.default_tone",
                 "'\(tone)' is not among tones [\(tones.joined(separator: ", "))]; the default must be a tone the model may choose")
        }
    }
}

extension FlowDefinition {
    /// One step of a flow with where it sits and its lines.
    public struct Step: Sendable {
        public var ref: StepRef
        public var action: String
        public var settings: ActionSettings
        public var backup: BackupStep?
        public var line: Int
        public var settingLines: [String: Int]
    }

    /// Every step: each process followed by its backup chain.
    public var steps: [Step] {
        var out: [Step] = []
        for (i, p) in processes.enumerated() {
            out.append(Step(ref: StepRef(process: i), action: p.action, settings: p.settings, backup: p.backup,
                            line: p.line, settingLines: p.settingLines))
            var depth = 1
            var next = p.backup
            while let b = next {
                out.append(Step(ref: StepRef(process: i, depth: depth), action: b.action, settings: b.settings,
                                backup: b.backup, line: b.line, settingLines: b.settingLines))
                depth += 1
                next = b.backup
            }
        }
        return out
    }
}
