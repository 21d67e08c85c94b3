import ArgumentParser

/// `pom-orchestrate`: runs flows, asks the promoted model for channel/tone/send time, sends.
public struct PomOrchestrate: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pom-orchestrate",
        abstract: "Run dunning flows with model-chosen channel, tone and send time.",
        version: pomVersion,
        subcommands: [Doctor.self, FlowsCommand.self, ActionsCommand.self, ContactCommand.self])

    public init() {}
}
