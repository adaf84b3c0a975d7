using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Atelico.Audio.Editor")]
[assembly: InternalsVisibleTo("Atelico.Audio.Tests")]
[assembly: InternalsVisibleTo("Atelico.Audio.Editor.Tests")]
[assembly: InternalsVisibleTo("Atelico.Audio.E2E.Tests")]
[assembly: InternalsVisibleTo("Atelico.Audio.Engine.Tests")]
