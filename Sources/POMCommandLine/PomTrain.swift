import ArgumentParser

/// `pom-train`: the data team's command line — simulate, import, fit, evaluate, ope, survival, report.
public struct PomTrain: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pom-train",
        abstract: "Train and evaluate pom's channel-optimisation models offline.",
        version: pomVersion,
        subcommands: [Doctor.self, Simulate.self, Import.self, Export.self, Fit.self, OffPolicyCommand.self,
                      SurvivalCommand.self, Evaluate.self, Models.self, ReportCommand.self])

    public init() {}
}
