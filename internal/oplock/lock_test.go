package oplock

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestAcquireExcludesSecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "op.lock")
	ctx := context.Background()
	first, err := Acquire(ctx, path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(ctx, path, 50*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("second Acquire while held: got %v, want ErrTimeout", err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	second, err := Acquire(ctx, path, time.Second)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	second.Release()
}

func TestAcquireWaitsForRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "op.lock")
	first, err := Acquire(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		first.Release()
	}()
	second, err := Acquire(context.Background(), path, 10*time.Second)
	if err != nil {
		t.Fatalf("Acquire did not get the lock after it was released: %v", err)
	}
	second.Release()
}

func TestAcquireHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "op.lock")
	first, err := Acquire(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Acquire(ctx, path, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestHandoffKeepsLockForDuplicate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "op.lock")
	l, err := Acquire(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// A duplicate of the descriptor stands for the child that inherited it.
	dup, err := dupFile(l.File())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Handoff(); err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(context.Background(), path, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("after Handoff the lock was free: %v", err)
	}
	Adopt(dup).Release()
	again, err := Acquire(context.Background(), path, time.Second)
	if err != nil {
		t.Fatalf("the adopted lock was not released: %v", err)
	}
	again.Release()
}

// TestSharedLock: shared holders hold the lock together; the exclusive lock waits for all of
// them, and a shared one waits for the exclusive.
func TestSharedLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "op.lock")
	ctx := context.Background()
	a, err := AcquireShared(ctx, path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := AcquireShared(ctx, path, 50*time.Millisecond)
	if err != nil {
		t.Fatalf("second shared holder: %v", err)
	}
	if _, err := Acquire(ctx, path, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("exclusive while shared: got %v, want ErrTimeout", err)
	}
	a.Release()
	if _, err := Acquire(ctx, path, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("exclusive while one shared holder is left: got %v, want ErrTimeout", err)
	}
	b.Release()
	x, err := Acquire(ctx, path, time.Second)
	if err != nil {
		t.Fatalf("exclusive after the shared holders: %v", err)
	}
	if _, err := AcquireShared(ctx, path, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("shared while exclusive: got %v, want ErrTimeout", err)
	}
	x.Release()
}

func TestExtensionLockNames(t *testing.T) {
	root := t.TempDir()
	if LockName("") != FileName || StopName("") != StopFileName {
		t.Fatal("a single-config handler's names changed")
	}
	for _, ext := range []string{"second", "first"} {
		l, err := Acquire(context.Background(), filepath.Join(root, LockName(ext)), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		l.Release()
	}
	l, _ := Acquire(context.Background(), filepath.Join(root, FileName), time.Second)
	l.Release()
	if got := Extensions(root); len(got) != 2 || got[0] != "first" || got[1] != "second" {
		t.Fatalf("Extensions = %q", got)
	}
	RequestStop(root, "first", 42)
	if StopRequested(root, "second", 42) || StopRequested(root, "", 42) {
		t.Fatal("a stop request of one extension reached another")
	}
	if !StopRequested(root, "first", 42) {
		t.Fatal("the extension's stop request was not seen")
	}
	h := Holder{PID: 1, Op: "enable", Seq: 3, Ext: "first", Since: time.Unix(0, 0)}
	if got, ok := parseRecord(h.encode()); !ok || got.Ext != "first" {
		t.Fatalf("record %+v %v", got, ok)
	}
}
