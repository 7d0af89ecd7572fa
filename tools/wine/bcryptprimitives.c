/*
 * bcryptprimitives.dll for Wine 8, used only by scripts/test-windows.
 *
 * Every Go (>= 1.22) windows binary imports ProcessPrng from bcryptprimitives.dll:
 * the runtime seeds itself with it at start-up and crypto/rand reads from it. Debian's
 * wine64 (Wine 8) ships no bcryptprimitives.dll with that export, so a Go test binary dies
 * before main. This DLL provides the one function Go needs, on top of the RNG that Wine
 * does implement: advapi32!SystemFunction036, better known as RtlGenRandom.
 *
 * Built by scripts/test-windows with x86_64-w64-mingw32-gcc and copied into the private
 * Wine prefix's system32; see README.md beside this file. Never shipped in a product.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <ntsecapi.h> /* RtlGenRandom, i.e. SystemFunction036 */

/*
 * ProcessPrng fills data with cbData cryptographically random bytes. The real one is
 * documented to always return TRUE; this one returns FALSE with an error code set if
 * RtlGenRandom fails, so that Go (which checks the result) stops loudly rather than go on
 * with a buffer that was not filled.
 */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T cbData)
{
	/* RtlGenRandom takes a ULONG (32-bit) length: feed it in pieces. */
	const SIZE_T chunk_max = 0x40000000;

	if (data == NULL && cbData != 0) {
		SetLastError(ERROR_INVALID_PARAMETER);
		return FALSE;
	}
	while (cbData > 0) {
		ULONG n = (ULONG)(cbData < chunk_max ? cbData : chunk_max);

		if (!RtlGenRandom(data, n)) {
			if (GetLastError() == ERROR_SUCCESS)
				SetLastError(ERROR_GEN_FAILURE);
			return FALSE;
		}
		data += n;
		cbData -= n;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
	(void)reserved;
	if (reason == DLL_PROCESS_ATTACH)
		DisableThreadLibraryCalls(instance);
	return TRUE;
}
