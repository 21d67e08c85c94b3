import ArgumentParser

/// `pom-orchestrate`: runs flows, asks the promoted model for channel/tone/send time, sends.
public struct PomOrchestrate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pom-orchestrate",
        abstract: "Run dunning flows with model-chosen channel, tone and send time.",
        version: pomVersion,
        subcommands: [Doctor.self, Run.self, Ingest.self, Status.self, ClosedLoopCommand.self, FlowsCommand.self, ActionsCommand.self,
                      ContactCommand.self, Serve.self])

    public init() {}
}
