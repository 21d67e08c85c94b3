// OpenBLAS's CBLAS interface plus its runtime queries (core name, config, threads).
#include <cblas.h>
