package mod

// Names in tests are not counted.
const InTest = 1

func HelperInTest() {}
