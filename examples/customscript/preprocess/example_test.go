package preprocess_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/vmext/vmext/examples/customscript/preprocess"
)

func ExampleConvert() {
	var out bytes.Buffer
	preprocess.Convert(&out, strings.NewReader("\xef\xbb\xbf#!/bin/sh\r\necho hi\r\n"))
	fmt.Printf("%q\n", out.String())
	// Output: "#!/bin/sh\necho hi\n"
}

func ExampleIsScript() {
	fmt.Println(preprocess.IsScript("install.sh", nil))
	fmt.Println(preprocess.IsScript("install", []byte("#!/bin/bash\n")))
	fmt.Println(preprocess.IsScript("tool.bin", []byte("\x7fELF")))
	// Output:
	// true
	// true
	// false
}
