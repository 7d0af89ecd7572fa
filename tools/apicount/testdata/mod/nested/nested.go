package nested

func X() {}
