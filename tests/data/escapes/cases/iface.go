package cases

import "fmt"

// Boxing: each int argument to fmt.Sprint is converted to an interface.
func Describe(id, size int) string {
	return fmt.Sprint("item ", id, " size ", size)
}
