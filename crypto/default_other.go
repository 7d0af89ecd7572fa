//go:build !windows

package crypto

// platformDefault is Files in the agent's certificate folder on Linux and every other
// non-Windows system.
func platformDefault(configFolder string) Decryptor {
	return Files{Dir: certDir(configFolder, agentCertDir)}
}
