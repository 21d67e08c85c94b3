import Foundation

/// What can go wrong in an orchestrator run, said so an operator can act on it.
public enum OrchestratorError: Error, CustomStringConvertible, Equatable {
    case experimentChanged(name: String, stored: Double, requested: Double)
    case unknownFlow(name: String, version: Int?)
    case noFlowForCase(invoice: String)
    case badEventFile(file: String, line: Int, field: String, message: String)
    case caseLoops(invoice: String, steps: Int)
    case flowVersionChanged(file: String, name: String, version: Int)

    public var description: String {
        switch self {
        case .experimentChanged(let name, let stored, let requested):
            return "experiment '\(name)' runs with a treatment share of \(stored); \(requested) was asked for. "
                + "The split of a running experiment cannot change — start a new experiment under another name"
        case .unknownFlow(let name, let version):
            return "flow '\(name)'\(version.map { " version \($0)" } ?? "") is not in the store; load it with `pom-orchestrate flows load FILE`"
        case .noFlowForCase(let invoice):
            return "no flow's segment rules match invoice '\(invoice)' and no default flow is configured"
        case .badEventFile(let file, let line, let field, let message):
            return "\(file):\(line): \(field): \(message)"
        case .flowVersionChanged(let file, let name, let version):
            return "\(file): flow '\(name)' version \(version) is already stored with other content; a stored version never changes — raise `version`"
        case .caseLoops(let invoice, let steps):
            return "case '\(invoice)' still had due steps after \(steps) steps in one run; its flow's backup chain does not end"
        }
    }
}
