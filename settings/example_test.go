package settings_test

import (
	"fmt"

	"github.com/vmext/vmext/settings"
)

func ExampleSettings_Decode() {
	s, err := settings.Parse([]byte(`{"runtimeSettings": [{"handlerSettings": {
		"publicSettings": {"fileUris": ["https://example.com/a.sh"], "commandToExecute": "sh a.sh"},
		"protectedSettings": null, "protectedSettingsCertThumbprint": null}}]}`), settings.Options{})
	if err != nil {
		panic(err)
	}
	var pub struct {
		FileURIs []string `json:"fileUris"`
		Command  string   `json:"commandToExecute"`
	}
	// nil: skip the protected half (it would be decrypted only if asked for).
	if err := s.Decode(&pub, nil); err != nil {
		panic(err)
	}
	fmt.Println(pub.Command, pub.FileURIs)
	// Output: sh a.sh [https://example.com/a.sh]
}

func ExampleSettings_Decode_strict() {
	s, _ := settings.Parse([]byte(`{"runtimeSettings": [{"handlerSettings": {"publicSettings": {"comandToExecute": "typo"}}}]}`),
		settings.Options{DisallowUnknownFields: true})
	var pub struct {
		Command string `json:"commandToExecute"`
	}
	fmt.Println(s.Decode(&pub, nil))
	// Output: invalid settings: public settings: json: unknown field "comandToExecute"
}
