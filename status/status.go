package status

// Substatus is one entry of a status's substatus list, for details such as a script's
// standard output or the result of one step.
type Substatus struct {
	Name    string
	State   State
	Code    int
	Message string
}
