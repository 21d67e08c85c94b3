import LinAlg
import POMCommandLine

BLASRuntime.selectFastKernel()
await PomTrain.main()
