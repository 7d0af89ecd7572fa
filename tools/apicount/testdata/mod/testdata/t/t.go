package t

func X() {}
