module scenarios

go 1.22
