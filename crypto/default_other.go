//go:build !windows

package crypto

// platformDefault is Files{Dir: CertDir(configFolder)} on Linux and every other
// non-Windows system.
func platformDefault(configFolder string) Decryptor {
	return Files{Dir: CertDir(configFolder)}
}
