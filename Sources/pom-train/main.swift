import LinAlg
import POMCommandLine

BLASRuntime.selectFastKernel()
/// Inside an async function the asynchronous `main()` of `AsyncParsableCommand` is chosen.
func runPomTrain() async { await PomTrain.main() }
await runPomTrain()
