/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8 (Debian 12) lacks and
 * which every Go >= 1.22 program loads at start-up for ProcessPrng. TEST SCAFFOLDING
 * ONLY: it is copied into the private Wine prefix of the tests, never shipped.
 * ProcessPrng fills the buffer from advapi32's RtlGenRandom (SystemFunction036), in
 * pieces of at most ULONG's range. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
