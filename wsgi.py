from evalplat import create_app

app = create_app()
