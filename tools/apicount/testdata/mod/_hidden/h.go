package hidden

func X() {}
