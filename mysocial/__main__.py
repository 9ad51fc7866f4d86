from mysocial.cli import main

main()
