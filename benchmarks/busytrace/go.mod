module busytrace

go 1.22
