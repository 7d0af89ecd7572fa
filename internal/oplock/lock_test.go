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
