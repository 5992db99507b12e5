
ï
6

service.name

checkout

	host.name
	localhost­

a­	INFO*
GET /orders/1232
http.request.method
GET2 
http.response.status_codeÈ2
user_agent.original
curl2
nested2

a
x

bJ	
a*
payment failed, password=12
http.request.method
POST2 
http.response.status_code÷*2

msg
fail

b
:


service.name
cart*
ok2
k
12
k
2