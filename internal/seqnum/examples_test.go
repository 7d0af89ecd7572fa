package seqnum_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/vmext/vmext/internal/seqnum"
)

func ExampleCurrent() {
	dir, _ := os.MkdirTemp("", "config-")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "4.settings"), nil, 0o600)

	n, err := seqnum.Current("", dir, "") // no ConfigSequenceNumber: from the files
	fmt.Println(n, err)
	n, err = seqnum.Current("7", dir, "") // the agent's variable wins
	fmt.Println(n, err)
	_, err = seqnum.Current("", filepath.Join(dir, "none"), "")
	fmt.Println(err == seqnum.ErrNone)
	// Output:
	// 4 <nil>
	// 7 <nil>
	// true
}

func ExampleDecide() {
	fmt.Println(seqnum.Decide(seqnum.Facts{Seq: 0}))
	fmt.Println(seqnum.Decide(seqnum.Facts{Seq: 0, Recorded: 0, HasRecord: true}))
	fmt.Println(seqnum.Decide(seqnum.Facts{Seq: 0, Recorded: 0, HasRecord: true, Disabled: true}))
	fmt.Println(seqnum.Decide(seqnum.Facts{Seq: 0, Recorded: 0, HasRecord: true, Interrupted: true, Policy: seqnum.AtMostOnce}))
	// Output:
	// {true first enable (sequence number 0) false}
	// {false sequence number 0 already processed false}
	// {true re-enabling after disable false}
	// {false the enable of sequence number 0 was interrupted (its process was killed or the machine restarted) and is not run again under at-most-once true}
}

func ExampleStore() {
	root, _ := os.MkdirTemp("", "handler-root-")
	defer os.RemoveAll(root)
	s := seqnum.Store{Root: root}
	s.Record(3)
	n, ok, err := s.Recorded()
	fmt.Println(n, ok, err, filepath.Base(s.RecordPath()))
	// Output: 3 true <nil> mrseq
}
