package e

func X() {}
