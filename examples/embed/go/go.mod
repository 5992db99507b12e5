module otflow.example/embedgo

go 1.19
