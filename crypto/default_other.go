//go:build !windows

package crypto

// Default returns the platform's Decryptor. On Linux (and every other
// non-Windows system) that is Files{Dir: CertDir(configFolder)}.
func Default(configFolder string) Decryptor {
	return Files{Dir: CertDir(configFolder)}
}
