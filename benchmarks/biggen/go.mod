module biggen

go 1.22
