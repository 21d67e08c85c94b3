import FeatureStore
import Flows
import Foundation

/// The flows of a store: every version of every flow loaded with `flows load`, parsed once.
/// New cases get the newest version of the flow their segment rules pick; a running case stays on
/// the version it started with.
public struct FlowLibrary: Sendable {
    /// Every version, by name then version.
    public private(set) var versions: [String: [Int: FlowDefinition]] = [:]

    public init(_ flows: [FlowDefinition] = []) {
        for f in flows { versions[f.name, default: [:]][f.version] = f }
    }

    /// The newest version of each flow.
    public var newest: [FlowDefinition] {
        versions.keys.sorted().compactMap { name in versions[name]!.max { $0.key < $1.key }?.value }
    }

    /// Flow `name` at `version`.
    public func flow(_ name: String, version: Int) throws -> FlowDefinition {
        guard let f = versions[name]?[version] else { throw OrchestratorError.unknownFlow(name: name, version: version) }
        return f
    }

    /// The newest version of flow `name`.
    public func newest(_ name: String) throws -> FlowDefinition {
        guard let f = versions[name]?.max(by: { $0.key < $1.key })?.value else { throw OrchestratorError.unknownFlow(name: name, version: nil) }
        return f
    }

    /// Reads every flow version of the store.
    public static func load(from store: any CaseQueue) async throws -> FlowLibrary {
        var library = FlowLibrary()
        for row in try await store.allRows(of: Schema.flowVersions) {
            let t = Schema.flowVersions
            let name = t.value(row, "name").text!, version = Int(t.value(row, "version").integer!)
            let text = t.value(row, "definition").text!
            let flow = try FlowParser.parse(text: text, file: "store:flows/\(name)@\(version)")
            library.versions[name, default: [:]][version] = flow
        }
        return library
    }

    /// Stores the flow files' texts as new versions (transactionally: all or none). A file whose
    /// name and version exist with the same text changes nothing; with a different text it is
    /// refused (a landed version is never edited — raise `version`).
    /// - Returns: for each file, whether it was new.
    public static func store(files: [(path: String, text: String)], into store: any CaseQueue, now: Date) async throws -> [Bool] {
        var flowRows: [[Value]] = [], versionRows: [[Value]] = []
        var isNew: [Bool] = []
        var parsed: [FlowDefinition] = []
        for file in files {
            let errors = FlowValidator.validate(text: file.text, file: file.path)
            if let first = errors.first { throw first }
            parsed.append(try FlowParser.parse(text: file.text, file: file.path))
        }
        if let first = FlowValidator.validate(set: parsed).first { throw first }
        let existing = try await store.allRows(of: Schema.flowVersions)
        var knownNames = Set(try await store.allRows(of: Schema.flows).map { Schema.flows.value($0, "name").text! })
        for (flow, file) in zip(parsed, files) {
            let checksum = Experiment.sha256Hex(file.text)
            if let row = existing.first(where: { Schema.flowVersions.value($0, "name").text == flow.name
                    && Schema.flowVersions.value($0, "version").integer == Int64(flow.version) }) {
                guard Schema.flowVersions.value(row, "checksum").text == checksum else {
                    throw OrchestratorError.flowVersionChanged(file: file.path, name: flow.name, version: flow.version)
                }
                isNew.append(false)
                continue
            }
            if knownNames.insert(flow.name).inserted { flowRows.append([.text(flow.name), .integer(micros(now))]) }
            versionRows.append([.text(flow.name), .integer(Int64(flow.version)), .text(file.text), .text(checksum), .integer(micros(now))])
            isNew.append(true)
        }
        try await store.apply([.upsert(TableRows(table: Schema.flows, rows: flowRows)),
                               .upsert(TableRows(table: Schema.flowVersions, rows: versionRows))])
        return isNew
    }
}
