import Decisioning
import FeatureStore
import Foundation
import Optimizer
import Tabular
import Vocabulary

extension OffPolicyFiles {
    /// Logged feedback with the target policy given by a pom model artifact (`ope --policy`).
    ///
    /// The log's `action` column holds pom delivery actions (`email/friendly/tuesday/10-12`); the
    /// actions that occur in the log are the action space, in `DeliveryAction` index order. The
    /// context columns must include every feature of the artifact's schema (`FeatureSchema` names,
    /// as `pom-train` exports them) and `decision_weekday`, the ISO weekday (1-7) of the decision
    /// in the customer's time zone (`local_hour` is one of the features). Each row's target
    /// probabilities are the policy's distribution over the logged actions.
    /// - Throws: `CSVError` naming the file, line, column and value; artifact errors.
    public static func load(logPath: String, policyPath: String) throws -> OffPolicyFiles {
        let artifact = try ModelArtifact.read(from: policyPath)
        let runtime = try PolicyRuntime(artifact: artifact, model: artifact.version)
        let logFile = try CSVFile(path: logPath)
        for required in ["action", "reward", "propensity"] { _ = try logFile.index(of: required) }
        let needed = artifact.featureSchema.names + ["decision_weekday"]
        let missing = needed.filter { !logFile.header.contains($0) }
        guard missing.isEmpty else {
            throw CSVError(file: logPath, line: 1, column: missing.joined(separator: ","),
                           message: DecisioningError.missingFeatures(path: policyPath, missing: missing).description)
        }
        let hasPosition = logFile.header.contains("position")
        let contextColumns = logFile.header.filter { !["action", "reward", "propensity", "position"].contains($0) }
        let columns = try logFile.read(numeric: ["reward", "propensity"] + contextColumns, text: ["action"] + (hasPosition ? ["position"] : []))
        let n = columns.rowCount
        guard n > 0 else { throw CSVError(file: logPath, line: 2, message: "the log has no rows") }
        let byName = Dictionary(uniqueKeysWithValues: DeliveryAction.all.map { ($0.description, $0.index) })
        let text = columns.string("action")
        var logged = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let s = text[i].trimmingCharacters(in: .whitespaces)
            guard let a = byName[s] else {
                throw CSVError(file: logPath, line: logFile.line(ofRow: i), column: "action", value: s,
                               message: "not a pom delivery action; expected channel/tone/weekday/window like email/friendly/tuesday/10-12")
            }
            logged[i] = a
        }
        let space = Array(Set(logged)).sorted()
        let position = Dictionary(uniqueKeysWithValues: space.enumerated().map { ($1, $0) })
        let candidates = CandidateSet(indices: space)
        let weekdays = columns.number("decision_weekday")
        let hours = columns.number("local_hour")
        let features = artifact.featureSchema.names.map { columns.number($0) }
        let k = space.count
        var probabilities = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let w = weekdays[i], h = hours[i]
            guard w == w.rounded(), (1...7).contains(w) else {
                throw CSVError(file: logPath, line: logFile.line(ofRow: i), column: "decision_weekday", value: String(w),
                               message: "expected the ISO weekday of the decision, 1 (Monday) to 7 (Sunday)")
            }
            guard h == h.rounded(), (0..<24).contains(h) else {
                throw CSVError(file: logPath, line: logFile.line(ofRow: i), column: "local_hour", value: String(h),
                               message: "expected the customer-local hour of the decision, 0 to 23")
            }
            let x = features.map { $0[i] }
            let dist = runtime.distribution(features: x, clock: DecisionClock(weekday: Int(w), hour: Int(h)), candidates: candidates,
                                            runID: 0, customerKey: UInt64(i))
            for (j, a) in space.enumerated() { probabilities[i + j * n] = dist.probabilities[a] }
        }
        var positions: [Int]? = nil
        var positionLabels: [String] = []
        if hasPosition {
            let labels = columns.string("position").map { $0.trimmingCharacters(in: .whitespaces) }
            positionLabels = Array(Set(labels)).sorted { (parseDouble($0) ?? .infinity, $0) < (parseDouble($1) ?? .infinity, $1) }
            let index = Dictionary(uniqueKeysWithValues: positionLabels.enumerated().map { ($1, $0) })
            positions = labels.map { index[$0]! }
        }
        var contexts = [Double]()
        for column in contextColumns { contexts += columns.number(column) }
        do {
            let log = try LoggedFeedback(actions: logged.map { position[$0]! }, rewards: columns.number("reward"),
                                         propensities: columns.number("propensity"),
                                         contexts: Matrix(rows: n, columns: contextColumns.count, columnMajor: contexts),
                                         positions: positions, actionCount: k, positionCount: positions == nil ? nil : positionLabels.count)
            let target = try ActionDistribution(probabilities: Matrix(rows: n, columns: k, columnMajor: probabilities), tolerance: 1e-6)
            return OffPolicyFiles(log: log, target: target, actionLabels: space.map { DeliveryAction(index: $0).description },
                                  positionLabels: positionLabels, contextColumns: contextColumns)
        } catch let error as OffPolicyDataError {
            throw CSVError(file: logPath, line: error.row.map { logFile.line(ofRow: $0) }, column: error.field, value: error.value,
                           message: error.message)
        }
    }
}
