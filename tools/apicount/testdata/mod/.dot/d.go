package dot

func X() {}
