import json,glob,os,re
import sys
S=sys.argv[1] if len(sys.argv)>1 else '../shared'
out=[]
def pick(tools):
    if len(tools)<=120: return tools
    return [tools[(i*len(tools))//120] for i in range(120)]
def add(server, src, repo, commit, tools):
    for t in pick(tools):
        params=[]; schema=t.get('inputSchema')
        if schema and isinstance(schema.get('properties'),dict): params=list(schema['properties'].keys())
        elif 'arguments' in t: params=[a.get('name') for a in (t.get('arguments') or [])]
        out.append(dict(server=server, tool=t.get('name'), title=t.get('title'), description=re.sub(r'\s+',' ',(t.get('description') or '')).strip()[:2000],
          params=params, annotations=t.get('annotations'), inputSchema=schema if schema else ({'arguments':t.get('arguments')} if t.get('arguments') else None),
          definition_source=src, repo=repo, commit=commit))
for f in sorted(glob.glob(S+'/fixtures/registries/docker-mcp-registry/servers/*/tools.json')):
    t=json.load(open(f))
    if not t: continue
    name=f.split('/')[-2]; y=open(os.path.dirname(f)+'/server.yaml').read()
    m=re.search(r'project:\s*(\S+)',y); c=re.search(r'commit:\s*(\S+)',y)
    add('docker:'+name,'shared/fixtures/registries/docker-mcp-registry/servers/%s/tools.json'%name, m.group(1) if m else None, c.group(1) if c else None, t)
for f in sorted(glob.glob(S+'/corpus/listings/*.json')):
    d=json.load(open(f))
    add(d['package'],'shared/corpus/listings/'+os.path.basename(f), None, d.get('version'), d['tools'])
with open('eval/corpus/definitions.jsonl','w') as fh:
    for o in out: fh.write(json.dumps(o)+'\n')
print(len(out))
