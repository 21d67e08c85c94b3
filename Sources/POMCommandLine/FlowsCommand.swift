import ArgumentParser
import Flows
import Foundation

/// `flows`: work with flow files.
public struct FlowsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Check flow files (YAML or JSON), store them as versions, list the stored ones.",
        subcommands: [FlowsValidate.self, FlowsLoad.self, FlowsList.self])

    public init() {}
}

/// `flows validate FILE...`: checks flow files one by one and as a set.
public struct FlowsValidate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check flow files: syntax, actions and their settings, backup chains, day order, names and switch_flow targets.",
        discussion: """
            The files are checked one by one and then as a set: flow names must be unique and every \
            switch_flow must name a flow among the files, without loops, so give all flows that refer \
            to each other (e.g. flows/*.yaml). Prints one line per valid file; every mistake goes to \
            standard error as file:line: field: message, and the exit status is 1.
            """)

    @Argument(help: "Flow files (YAML or JSON).")
    var files: [String]

    public init() {}

    public func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one flow file") }
    }

    public func run() throws {
        let result = FlowsValidate.check(files: files)
        for line in result.summaries { print(line) }
        for error in result.errors { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
        if !result.errors.isEmpty { throw ExitCode(1) }
    }

    /// The outcome of checking a set of flow files.
    public struct Result: Sendable {
        /// One line per file without mistakes: `flows/b2c.yaml: b2c v1, 9 processes, 6 backup steps`.
        public var summaries: [String]
        /// Every mistake, by file (in the order given) and line.
        public var errors: [FlowError]
        /// The flows that parsed.
        public var flows: [FlowDefinition]
    }

    /// Reads and checks `files` (the command without its printing).
    public static func check(files: [String], catalogue: ActionCatalogue = .standard) -> Result {
        var errors: [FlowError] = []
        var flows: [FlowDefinition] = []
        for file in files {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                errors.append(FlowError(file: file, line: 0, field: "file", message: "cannot read the file: \(error.localizedDescription)"))
                continue
            }
            let fileErrors = FlowValidator.validate(text: text, file: file, catalogue: catalogue)
            if fileErrors.isEmpty, let flow = try? FlowParser.parse(text: text, file: file, catalogue: catalogue) {
                flows.append(flow)
            }
            errors += fileErrors
        }
        let setErrors = FlowValidator.validate(set: flows)
        errors += setErrors
        let bad = Set(errors.map(\.file))
        let summaries = flows.filter { !bad.contains($0.file) }.map { flow in
            let backups = flow.steps.count - flow.processes.count
            let processes = flow.processes.count == 1 ? "1 process" : "\(flow.processes.count) processes"
            let steps = backups == 1 ? "1 backup step" : "\(backups) backup steps"
            return "\(flow.file): \(flow.name) v\(flow.version), \(processes), \(steps), days \(flow.processes.first!.day) to \(flow.processes.last!.day)"
        }
        let order = Dictionary(files.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        errors.sort { (order[$0.file] ?? 0, $0.line, $0.field) < (order[$1.file] ?? 0, $1.line, $1.field) }
        return Result(summaries: summaries, errors: errors, flows: flows)
    }
}
