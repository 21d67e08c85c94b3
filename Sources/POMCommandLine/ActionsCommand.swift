import ArgumentParser
import Flows
import Foundation

/// `actions`: the action catalogue, one action a line.
public struct ActionsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "actions",
        abstract: "List the actions flows can use, with what they do and their settings.")

    @Flag(help: "Print the catalogue as JSON (an array of actions with their settings and conditions).")
    var json = false

    public init() {}

    public func run() throws {
        print(try ActionsCommand.render(json: json), terminator: "")
    }

    /// The listing: `name: summary settings: a=type (default x), ...; raises: c1, c2` per line, or JSON.
    public static func render(json: Bool, catalogue: ActionCatalogue = .standard) throws -> String {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(catalogue.actions), as: UTF8.self) + "\n"
        }
        return catalogue.actions.map { spec in
            var line = "\(spec.name): \(spec.summary)"
            line += spec.settings.isEmpty ? " No settings." : " Settings: \(spec.settingsSummary)."
            if !spec.conditions.isEmpty { line += " Raises: \(spec.conditions.sorted().map(\.rawValue).joined(separator: ", "))." }
            return line + "\n"
        }.joined()
    }
}
