// Debian's libqrencode (QR code symbol encoder).
#include <qrencode.h>
