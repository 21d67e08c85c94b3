import LinAlg
import POMCommandLine

BLASRuntime.selectFastKernel()
/// Inside an async function the asynchronous `main()` of `AsyncParsableCommand` is chosen.
func runPomOrchestrate() async { await PomOrchestrate.main() }
await runPomOrchestrate()
