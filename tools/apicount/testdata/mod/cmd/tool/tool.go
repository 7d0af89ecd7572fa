package tool

func X() {}
