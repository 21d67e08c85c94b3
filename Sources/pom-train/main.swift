import LinAlg
import POMCommandLine

BLASRuntime.selectFastKernel()
PomTrain.main()
