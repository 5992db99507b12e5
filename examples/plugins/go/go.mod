module otflow.example/gofiles

go 1.19
