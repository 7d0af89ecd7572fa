package crypto

import (
	"os"

	"github.com/vmext/vmext/internal/seam"
)

// Default returns the platform's Decryptor for a handler whose HandlerEnvironment.json names
// configFolder:
//
//   - on Linux and other Unix systems, Files in the agent's certificate folder: the folder two
//     levels above configFolder when it exists (/var/lib/waagent on a VM, where configFolder is
//     /var/lib/waagent/<Name>-<Version>/config), otherwise /var/lib/waagent;
//   - on Windows, the LocalMachine\My certificate store (Store).
//
// When the variable VMEXT_CERT_DIR is set, Default returns Files in that folder on every
// platform instead. It is a seam for fake agents such as handlertest; the guest agent never
// sets it.
func Default(configFolder string) Decryptor {
	if dir := os.Getenv(seam.CertDirEnv); dir != "" {
		return Files{Dir: dir}
	}
	return platformDefault(configFolder)
}
