package seqnum

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func touch(t *testing.T, dir, name string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestCurrent(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		env   string
		ext   string
		files map[string]time.Duration // name → offset from base
		want  int
		err   error
	}{
		{name: "env wins over files", env: "7", files: map[string]time.Duration{"9.settings": 0}, want: 7},
		{name: "env with white space", env: " 3\n", want: 3},
		{name: "env zero", env: "0", want: 0},
		{name: "no env, no files", err: ErrNone},
		{name: "newest file, not highest number", files: map[string]time.Duration{"10.settings": 0, "2.settings": time.Second}, want: 2},
		{name: "tie: highest among the tied only", files: map[string]time.Duration{
			"3.settings": time.Minute, "5.settings": time.Minute, "10.settings": 0}, want: 5},
		{name: "single-config ignores other names", files: map[string]time.Duration{
			"1.settings": 0, "ext.9.settings": time.Hour, "HandlerState": time.Hour, "x.settings": time.Hour}, want: 1},
		{name: "multi-config picks its own", ext: "RunCmd1", files: map[string]time.Duration{
			"RunCmd1.4.settings": 0, "RunCmd2.9.settings": time.Hour, "9.settings": time.Hour}, want: 4},
		{name: "multi-config does not match a longer name", ext: "cmd", files: map[string]time.Duration{
			"mycmd.3.settings": 0}, err: ErrNone},
		{name: "empty 0.settings", files: map[string]time.Duration{"0.settings": 0}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, off := range tt.files {
				touch(t, dir, name, base.Add(off))
			}
			got, err := Current(tt.env, dir, tt.ext)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Fatalf("Current = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCurrentBadEnv(t *testing.T) {
	for _, env := range []string{"abc", "-1", "1.5", "+3", "99999999999999999999999"} {
		if _, err := Current(env, t.TempDir(), ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("Current(%q) err = %v, want ErrInvalid", env, err)
		}
	}
}

func TestMissingFolderIsNone(t *testing.T) {
	if _, err := Current("", filepath.Join(t.TempDir(), "nope"), ""); !errors.Is(err, ErrNone) {
		t.Fatalf("err = %v", err)
	}
}

func TestStore(t *testing.T) {
	root := t.TempDir()
	s := Store{Root: root}
	if _, ok, err := s.Recorded(); ok || err != nil {
		t.Fatalf("fresh store: ok=%v err=%v", ok, err)
	}
	for _, content := range []string{"1\n", " 1 ", "1\r\n"} {
		os.WriteFile(s.RecordPath(), []byte(content), 0o600)
		if n, ok, err := s.Recorded(); n != 1 || !ok || err != nil {
			t.Errorf("record %q: n=%d ok=%v err=%v", content, n, ok, err)
		}
	}
	for _, content := range []string{"", "garbage", "-4", "\x00\x01"} {
		os.WriteFile(s.RecordPath(), []byte(content), 0o600)
		if _, ok, err := s.Recorded(); ok || !errors.Is(err, ErrCorrupt) {
			t.Errorf("corrupt record %q: ok=%v err=%v", content, ok, err)
		}
	}
	if err := s.Record(12); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "mrseq")); string(b) != "12" {
		t.Fatalf("mrseq content %q, want plain decimal", b)
	}
	mc := Store{Root: root, ExtensionName: "RunCmd1"}
	mc.Record(3)
	if n, _, _ := mc.Recorded(); n != 3 {
		t.Fatal("multi-config record")
	}
	if n, _, _ := s.Recorded(); n != 12 {
		t.Fatal("multi-config record overwrote the single-config one")
	}

	if s.Disabled() {
		t.Fatal("fresh store is disabled")
	}
	s.SetDisabled(true)
	if !s.Disabled() || mc.Disabled() {
		t.Fatal("disabled marker not per extension")
	}
	s.SetDisabled(false)
	s.SetDisabled(false)
	if s.Disabled() {
		t.Fatal("disabled marker not cleared")
	}

}

// TestRecordRewrittenInPlace: the record is written over, never through a new file, and a
// shorter number leaves nothing of a longer one behind.
func TestRecordRewrittenInPlace(t *testing.T) {
	s := Store{Root: t.TempDir()}
	for _, n := range []int{123456, 7, 45, 45, 0, 1000} {
		if err := s.Record(n); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(s.RecordPath())
		if err != nil || string(b) != strconv.Itoa(n) {
			t.Fatalf("after Record(%d) the file holds %q (%v)", n, b, err)
		}
		if got, ok, err := s.Recorded(); err != nil || !ok || got != n {
			t.Fatalf("Recorded() = %d, %v, %v after Record(%d)", got, ok, err, n)
		}
	}
	entries, _ := os.ReadDir(s.Root)
	if len(entries) != 1 {
		t.Errorf("the root holds %d entries, want only the record", len(entries))
	}
}

func TestMigrate(t *testing.T) {
	old, cur := t.TempDir(), t.TempDir()
	Store{Root: old, ExtensionName: "RunCmd1"}.Record(8)
	s := Store{Root: cur, ExtensionName: "RunCmd1"}
	if moved, err := s.Migrate(old); !moved || err != nil {
		t.Fatalf("moved=%v err=%v", moved, err)
	}
	if n, ok, _ := s.Recorded(); !ok || n != 8 {
		t.Fatalf("after migration: %d %v", n, ok)
	}
	Store{Root: old, ExtensionName: "RunCmd1"}.Record(9)
	if moved, _ := s.Migrate(old); moved {
		t.Fatal("migration overwrote an existing record")
	}
	if moved, err := s.Migrate(""); moved || err != nil {
		t.Fatal("migration from nowhere")
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		f    Facts
		run  bool
	}{
		{"first enable at seq 0", Facts{Seq: 0}, true},
		{"same seq", Facts{Seq: 0, Recorded: 0, HasRecord: true}, false},
		{"newer seq", Facts{Seq: 1, Recorded: 0, HasRecord: true}, true},
		{"smaller seq is new too", Facts{Seq: 0, Recorded: 4, HasRecord: true}, true},
		{"after disable", Facts{Seq: 1, Recorded: 1, HasRecord: true, Disabled: true}, true},
		{"after update", Facts{Seq: 1, Recorded: 1, HasRecord: true, AfterUpdate: true}, true},
		{"interrupted", Facts{Seq: 1, Recorded: 1, HasRecord: true, Interrupted: true}, true},
		{"always", Facts{Seq: 1, Recorded: 1, HasRecord: true, Policy: Always}, true},
		{"at most once, same seq", Facts{Seq: 1, Recorded: 1, HasRecord: true, Policy: AtMostOnce}, false},
		{"at most once, after disable", Facts{Seq: 1, Recorded: 1, HasRecord: true, Disabled: true, Policy: AtMostOnce}, false},
		{"at most once, after update", Facts{Seq: 1, Recorded: 1, HasRecord: true, AfterUpdate: true, Policy: AtMostOnce}, false},
		{"at most once, interrupted before the record", Facts{Seq: 1, Recorded: 0, HasRecord: true, Interrupted: true, InterruptedSeq: 1, Policy: AtMostOnce}, true},
		{"at most once, interrupted before the first record", Facts{Seq: 1, Interrupted: true, InterruptedSeq: 1, Policy: AtMostOnce}, true},
		{"at most once, another number interrupted", Facts{Seq: 2, Recorded: 1, HasRecord: true, Interrupted: true, InterruptedSeq: 1, Policy: AtMostOnce}, true},
		{"at most once, new seq", Facts{Seq: 2, Recorded: 1, HasRecord: true, Policy: AtMostOnce}, true},
	}
	for _, tt := range tests {
		d := Decide(tt.f)
		if d.Run != tt.run || d.Fail || d.Reason == "" {
			t.Errorf("%s: Decide = %+v, want run=%v with a reason", tt.name, d, tt.run)
		}
	}
}

// TestMigrateAll: an update of a multi-config handler carries every extension's record and
// disabled marker, not only one; the single-config record as Migrate does.
func TestMigrateAll(t *testing.T) {
	old, cur := t.TempDir(), t.TempDir()
	Store{Root: old, ExtensionName: "first"}.Record(3)
	Store{Root: old, ExtensionName: "second"}.Record(5)
	Store{Root: old, ExtensionName: "second"}.SetDisabled(true)
	Store{Root: old, ExtensionName: "third"}.Record(1)
	Store{Root: cur, ExtensionName: "third"}.Record(2) // already there: kept
	Store{Root: old}.Record(7)
	os.WriteFile(filepath.Join(old, "notes.mrseq.txt"), nil, 0o600)
	moved, err := MigrateAll(cur, old)
	if err != nil || strings.Join(moved, ",") != ",first,second" {
		t.Fatalf("moved %q, err %v", moved, err)
	}
	for ext, want := range map[string]int{"first": 3, "second": 5, "third": 2, "": 7} {
		if n, ok, _ := (Store{Root: cur, ExtensionName: ext}).Recorded(); !ok || n != want {
			t.Errorf("%q: %d %v, want %d", ext, n, ok, want)
		}
	}
	if !(Store{Root: cur, ExtensionName: "second"}).Disabled() || (Store{Root: cur, ExtensionName: "first"}).Disabled() {
		t.Error("the disabled markers did not follow")
	}
	if moved, err := MigrateAll(cur, ""); moved != nil || err != nil {
		t.Fatal("migration from nowhere")
	}
}

// TestDecideAtMostOnceReports (issue 13, defect 5): under AtMostOnce an interrupted run of
// the current number that was recorded, and a record that cannot be read, are reported
// (Fail), never run again; under the other policies they run.
func TestDecideAtMostOnceReports(t *testing.T) {
	interrupted := Facts{Seq: 4, Recorded: 4, HasRecord: true, Interrupted: true, InterruptedSeq: 4}
	unreadable := Facts{Seq: 4, Unreadable: true}
	for _, f := range []Facts{interrupted, unreadable} {
		f.Policy = AtMostOnce
		if d := Decide(f); d.Run || !d.Fail || !strings.Contains(d.Reason, "at-most-once") || !strings.Contains(d.Reason, "4") {
			t.Errorf("Decide(%+v) = %+v, want a failure that names the number and the policy", f, d)
		}
		for _, p := range []Policy{AtLeastOnce, Always} {
			f.Policy = p
			if d := Decide(f); !d.Run || d.Fail {
				t.Errorf("Decide(%+v) = %+v, want a run", f, d)
			}
		}
	}
}

// TestCommitReplaces (issue 13, defect 5): Commit never writes over the old record in place
// (a kill or a full disk half-way would leave a torn or empty record): a hard link to the old
// record keeps the old number, and the record holds the new one.
func TestCommitReplaces(t *testing.T) {
	s := Store{Root: t.TempDir()}
	if err := s.Commit(12); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old")
	if err := os.Link(s.RecordPath(), old); err != nil {
		t.Skip("no hard links here:", err)
	}
	if err := s.Commit(9); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(old); string(b) != "12" {
		t.Errorf("the old record was written over in place: it holds %q", b)
	}
	if n, ok, err := s.Recorded(); n != 9 || !ok || err != nil {
		t.Errorf("Recorded() = %d, %v, %v after Commit(9)", n, ok, err)
	}
	entries, _ := os.ReadDir(s.Root)
	if len(entries) != 1 {
		t.Errorf("the root holds %d entries, want only the record", len(entries))
	}
}

// TestRecordShorterNumberNeverTorn (issue 13, defect 5): writing a shorter number in place
// first writes it padded to the old length, which reads as the new number: a kill before the
// cut leaves it, not a third number ("75" from "7" over "45").
func TestRecordShorterNumberNeverTorn(t *testing.T) {
	for _, c := range []struct{ n, old int }{{7, 45}, {9, 1000}, {0, 12}} {
		b := padded(strconv.Itoa(c.n), len(strconv.Itoa(c.old)))
		if got, err := Parse(string(b)); err != nil || got != c.n || len(b) != len(strconv.Itoa(c.old)) {
			t.Errorf("%d over %d: the first write %q reads as %d (%v)", c.n, c.old, b, got, err)
		}
	}
}
