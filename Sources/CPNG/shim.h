// Debian's libpng (PNG writer and reader; writes the QR code images).
#include <png.h>
